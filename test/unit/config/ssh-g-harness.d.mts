export interface TestCase {
  id: string;
  dest: string;
  args?: string[];
  /** `ssh -G` must fail for this case. */
  error?: boolean;
}
export interface Staged {
  dir: string;
  home: string;
  config: string;
  cleanup(): void;
}
export interface Local {
  home: string;
  user: string;
  hostname: string;
  uid: number;
}
export const SSH: string;
export const FIXTURES: string;
export function listFixtures(): string[];
export function readCases(name: string): TestCase[];
export function localEnvironment(): Local;
export function stageFixture(name: string): Staged;
export function runSsh(
  staged: Staged,
  testCase: TestCase,
): { status: number | null; stdout: string; stderr: string };
export function sshVersion(): string | undefined;
export function normalize(text: string, staged: Staged, local: Local): string;
export function toResolveOptions(args?: string[]): {
  overrides: [string, string][];
  identityFiles: string[];
  port?: number;
  user?: string;
  addressFamily?: 'inet' | 'inet6';
};
