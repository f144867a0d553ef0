// Writes bcryptprimitives.dll for Wine 8 (Debian bookworm's), which lacks it: Rust ≥ 1.78 binaries —
// rolldown's and lightningcss' win32 bindings, which vitest loads — import ProcessPrng from it, and
// without it LoadLibrary fails with "Module not found". Real Windows (8.1+) has the DLL; this file
// is only for the Windows tier under Wine.
//
// The DLL holds no code: its one export forwards to advapi32's SystemFunction036 (RtlGenRandom),
// which fills a buffer with random bytes as ProcessPrng does. The signatures differ only where x64
// does not care for lengths < 4 GiB (SIZE_T vs ULONG in rdx) and in the result (BOOLEAN vs BOOL),
// which Rust's std ignores (ProcessPrng is documented to always succeed).
//
// Usage: node scripts/wine-bcryptprimitives.mjs OUT.dll
import { writeFileSync } from 'node:fs';

const FILE_ALIGN = 0x200;
const SECTION_RVA = 0x1000;

function exportSection() {
  const dllName = 'bcryptprimitives.dll\0';
  const fnName = 'ProcessPrng\0';
  const forward = 'advapi32.SystemFunction036\0';
  const dirSize = 40;
  const functionsAt = dirSize; // one 4-byte RVA
  const namesAt = functionsAt + 4; // one 4-byte RVA
  const ordinalsAt = namesAt + 4; // one 2-byte index
  const dllNameAt = ordinalsAt + 2;
  const fnNameAt = dllNameAt + dllName.length;
  const forwardAt = fnNameAt + fnName.length;
  const size = forwardAt + forward.length;
  const b = Buffer.alloc(size);
  const rva = (off) => SECTION_RVA + off;
  b.writeUInt32LE(rva(dllNameAt), 12); // Name
  b.writeUInt32LE(1, 16); // Base (first ordinal)
  b.writeUInt32LE(1, 20); // NumberOfFunctions
  b.writeUInt32LE(1, 24); // NumberOfNames
  b.writeUInt32LE(rva(functionsAt), 28);
  b.writeUInt32LE(rva(namesAt), 32);
  b.writeUInt32LE(rva(ordinalsAt), 36);
  // A function RVA inside the export directory's own range is a forwarder string, not code.
  b.writeUInt32LE(rva(forwardAt), functionsAt);
  b.writeUInt32LE(rva(fnNameAt), namesAt);
  b.writeUInt16LE(0, ordinalsAt);
  b.write(dllName, dllNameAt, 'latin1');
  b.write(fnName, fnNameAt, 'latin1');
  b.write(forward, forwardAt, 'latin1');
  return b;
}

function image() {
  const edata = exportSection();
  const headers = Buffer.alloc(FILE_ALIGN);
  headers.write('MZ', 0, 'latin1');
  const pe = 0x40;
  headers.writeUInt32LE(pe, 0x3c); // e_lfanew
  headers.write('PE\0\0', pe, 'latin1');
  const coff = pe + 4;
  headers.writeUInt16LE(0x8664, coff); // x86-64
  headers.writeUInt16LE(1, coff + 2); // one section
  headers.writeUInt16LE(0xf0, coff + 16); // SizeOfOptionalHeader (PE32+)
  headers.writeUInt16LE(0x2022, coff + 18); // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE | DLL
  const opt = coff + 20;
  headers.writeUInt16LE(0x20b, opt); // PE32+
  headers.writeUInt32LE(FILE_ALIGN, opt + 8); // SizeOfInitializedData
  headers.writeUInt32LE(0, opt + 16); // AddressOfEntryPoint: none, there is no code
  headers.writeBigUInt64LE(0x180000000n, opt + 24); // ImageBase
  headers.writeUInt32LE(0x1000, opt + 32); // SectionAlignment
  headers.writeUInt32LE(FILE_ALIGN, opt + 36); // FileAlignment
  headers.writeUInt16LE(6, opt + 40); // MajorOperatingSystemVersion
  headers.writeUInt16LE(6, opt + 48); // MajorSubsystemVersion
  headers.writeUInt32LE(SECTION_RVA + 0x1000, opt + 56); // SizeOfImage
  headers.writeUInt32LE(FILE_ALIGN, opt + 60); // SizeOfHeaders
  headers.writeUInt16LE(3, opt + 68); // Subsystem: console
  headers.writeBigUInt64LE(0x100000n, opt + 72); // SizeOfStackReserve
  headers.writeBigUInt64LE(0x1000n, opt + 80); // SizeOfStackCommit
  headers.writeBigUInt64LE(0x100000n, opt + 88); // SizeOfHeapReserve
  headers.writeBigUInt64LE(0x1000n, opt + 96); // SizeOfHeapCommit
  headers.writeUInt32LE(16, opt + 108); // NumberOfRvaAndSizes
  headers.writeUInt32LE(SECTION_RVA, opt + 112); // export directory RVA
  headers.writeUInt32LE(edata.length, opt + 116); // export directory size
  const sec = opt + 0xf0;
  headers.write('.edata', sec, 'latin1');
  headers.writeUInt32LE(edata.length, sec + 8); // VirtualSize
  headers.writeUInt32LE(SECTION_RVA, sec + 12); // VirtualAddress
  headers.writeUInt32LE(FILE_ALIGN, sec + 16); // SizeOfRawData
  headers.writeUInt32LE(FILE_ALIGN, sec + 20); // PointerToRawData
  headers.writeUInt32LE(0x40000040, sec + 36); // INITIALIZED_DATA | MEM_READ
  const body = Buffer.alloc(FILE_ALIGN);
  edata.copy(body);
  return Buffer.concat([headers, body]);
}

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: node scripts/wine-bcryptprimitives.mjs OUT.dll\n');
  process.exit(2);
}
writeFileSync(out, image());
