/*
 * A Pageant for the Windows tier: reached the way PuTTY's Pageant is reached, by
 * ssh2's util/pagent.exe and PuTTY alike, and answering with a real ssh-agent's answers.
 *
 *   pageant.exe PORT DIR
 *
 * Owns a top-level window of class "Pageant" titled "Pageant". A client finds it with
 * FindWindow, puts an agent request (uint32 length, then the message) into a named file
 * mapping of its own and sends WM_COPYDATA with dwData AGENT_COPYDATA_ID and lpData the
 * mapping's name (NUL included). The request goes to 127.0.0.1:PORT, where the test bridges it
 * to OpenSSH's ssh-agent; the reply is written back into the mapping and the message returns
 * nonzero (zero refuses: not our id, a malformed name, a mapping we cannot open or that
 * another user owns). A request or reply that does not fit the mapping gets the agent
 * protocol's SSH_AGENT_FAILURE, as Pageant answers it.
 *
 * Writes DIR\ready once the window exists; exits when DIR\stop appears, or after 5 minutes.
 * Built by scripts/setup-windows.sh with mingw-w64. PuTTY's windows/pageant.c is the spec.
 */
#include <winsock2.h>
#include <windows.h>
#include <aclapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT_COPYDATA_ID 0x804e50ba
#define SSH_AGENT_FAILURE 5
#define LIFETIME_MS (5 * 60 * 1000)

static unsigned short port;
static char stop_file[MAX_PATH];
static DWORD started;

static unsigned long get32(const unsigned char *p) {
  return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8) | p[3];
}

static void put32(unsigned char *p, unsigned long v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static int send_all(SOCKET s, const unsigned char *p, unsigned long n) {
  while (n > 0) {
    int k = send(s, (const char *)p, n > 0x10000 ? 0x10000 : (int)n, 0);
    if (k <= 0) return 0;
    p += k;
    n -= (unsigned long)k;
  }
  return 1;
}

static int recv_all(SOCKET s, unsigned char *p, unsigned long n) {
  while (n > 0) {
    int k = recv(s, (char *)p, n > 0x10000 ? 0x10000 : (int)n, 0);
    if (k <= 0) return 0;
    p += k;
    n -= (unsigned long)k;
  }
  return 1;
}

/*
 * One request (4 + get32(buf) bytes in buf) to the agent; its reply replaces it in buf when it
 * fits in `room` bytes. Returns 0 when the agent could not be asked or its reply does not fit.
 */
static int ask_agent(unsigned char *buf, unsigned long room) {
  struct sockaddr_in to;
  unsigned char head[4];
  unsigned long len;
  int ok = 0;
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (s == INVALID_SOCKET) return 0;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, (struct sockaddr *)&to, sizeof to) == 0 && send_all(s, buf, 4 + get32(buf)) &&
      recv_all(s, head, 4)) {
    len = get32(head);
    if (len <= room - 4) {
      memcpy(buf, head, 4);
      ok = recv_all(s, buf + 4, len);
    }
  }
  closesocket(s);
  return ok;
}

/*
 * Pageant answers only mappings owned by its own user (another user's would make it a confused
 * deputy). Wine records no owner for a mapping created without security attributes, as
 * pagent.exe creates it: with no owner to compare there is nothing to refuse on.
 */
static int owned_by_us(HANDLE map) {
  PSID owner = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  HANDLE token = NULL;
  union {
    TOKEN_USER user;
    unsigned char room[256];
  } me;
  DWORD got;
  int ok = 0;
  if (GetSecurityInfo(map, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, &owner, NULL, NULL, NULL, &sd) !=
      ERROR_SUCCESS)
    return 0;
  if (owner == NULL)
    ok = 1;
  else if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token) &&
      GetTokenInformation(token, TokenUser, &me, sizeof me, &got))
    ok = EqualSid(owner, me.user.User.Sid);
  if (token) CloseHandle(token);
  LocalFree(sd);
  return ok;
}

static LRESULT copydata(const COPYDATASTRUCT *cds) {
  const char *name = cds->lpData;
  MEMORY_BASIC_INFORMATION info;
  unsigned char *p;
  unsigned long room;
  HANDLE map;
  LRESULT answered = 0;
  if (cds->dwData != AGENT_COPYDATA_ID || cds->cbData == 0 || name == NULL || name[cds->cbData - 1] != '\0')
    return 0;
  map = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name);
  if (map == NULL) return 0;
  p = owned_by_us(map) ? MapViewOfFile(map, FILE_MAP_WRITE, 0, 0, 0) : NULL;
  if (p != NULL && VirtualQuery(p, &info, sizeof info) == sizeof info && info.RegionSize >= 5) {
    room = info.RegionSize > 0xffffffffUL ? 0xffffffffUL : (unsigned long)info.RegionSize;
    if (get32(p) > room - 4 || !ask_agent(p, room)) {
      put32(p, 1);
      p[4] = SSH_AGENT_FAILURE;
    }
    answered = 1;
  }
  if (p != NULL) UnmapViewOfFile(p);
  CloseHandle(map);
  return answered;
}

static LRESULT CALLBACK window_proc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp) {
  switch (msg) {
  case WM_COPYDATA:
    return copydata((const COPYDATASTRUCT *)lp);
  case WM_TIMER:
    if (GetFileAttributesA(stop_file) != INVALID_FILE_ATTRIBUTES || GetTickCount() - started > LIFETIME_MS)
      DestroyWindow(hwnd);
    return 0;
  case WM_DESTROY:
    PostQuitMessage(0);
    return 0;
  }
  return DefWindowProcA(hwnd, msg, wp, lp);
}

int main(int argc, char **argv) {
  WSADATA wsa;
  WNDCLASSA wc;
  HWND hwnd;
  MSG msg;
  char ready[MAX_PATH];
  FILE *f;
  if (argc != 3 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
    fprintf(stderr, "usage: pageant.exe PORT DIR\n");
    return 2;
  }
  port = (unsigned short)atoi(argv[1]);
  snprintf(stop_file, sizeof stop_file, "%s\\stop", argv[2]);
  snprintf(ready, sizeof ready, "%s\\ready", argv[2]);
  started = GetTickCount();
  if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
    fprintf(stderr, "pageant.exe: WSAStartup failed\n");
    return 1;
  }
  memset(&wc, 0, sizeof wc);
  wc.lpfnWndProc = window_proc;
  wc.hInstance = GetModuleHandleA(NULL);
  wc.lpszClassName = "Pageant";
  if (!RegisterClassA(&wc)) {
    fprintf(stderr, "pageant.exe: RegisterClass failed (%lu)\n", GetLastError());
    return 1;
  }
  /* Top-level (FindWindow does not see message-only windows) and never shown, as Pageant's. */
  hwnd = CreateWindowA("Pageant", "Pageant", WS_OVERLAPPEDWINDOW, 0, 0, 0, 0, NULL, NULL, wc.hInstance, NULL);
  if (hwnd == NULL) {
    fprintf(stderr, "pageant.exe: CreateWindow failed (%lu)\n", GetLastError());
    return 1;
  }
  SetTimer(hwnd, 1, 100, NULL);
  f = fopen(ready, "w");
  if (f == NULL) {
    fprintf(stderr, "pageant.exe: cannot write %s\n", ready);
    return 1;
  }
  fputs("listening", f);
  fclose(f);
  while (GetMessageA(&msg, NULL, 0, 0) > 0) {
    TranslateMessage(&msg);
    DispatchMessageA(&msg);
  }
  WSACleanup();
  return 0;
}
