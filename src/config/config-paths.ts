import path from 'node:path';

/** Where OpenSSH looks for configuration on a platform. */
export interface ConfigPaths {
  /** `~/.ssh/config` (Windows: `%USERPROFILE%\.ssh\config`). */
  readonly userConfig: string;
  /** `/etc/ssh/ssh_config` (Windows: `%PROGRAMDATA%\ssh\ssh_config`). */
  readonly systemConfig: string;
  /** Base of relative Includes in the system file. */
  readonly systemDir: string;
  /** GlobalKnownHostsFile default. */
  readonly globalKnownHosts: readonly string[];
}

/** The platform's default configuration locations for a home directory. */
export function configPaths(
  platform: NodeJS.Platform,
  homeDir: string,
  env: Readonly<Record<string, string | undefined>>,
): ConfigPaths {
  if (platform === 'win32') {
    const programData = env.PROGRAMDATA ?? env.ProgramData ?? 'C:\\ProgramData';
    const systemDir = path.win32.join(programData, 'ssh');
    return {
      userConfig: path.win32.join(homeDir, '.ssh', 'config'),
      systemConfig: path.win32.join(systemDir, 'ssh_config'),
      systemDir,
      globalKnownHosts: [
        path.win32.join(systemDir, 'ssh_known_hosts'),
        path.win32.join(systemDir, 'ssh_known_hosts2'),
      ],
    };
  }
  return {
    userConfig: path.posix.join(homeDir, '.ssh', 'config'),
    systemConfig: '/etc/ssh/ssh_config',
    systemDir: '/etc/ssh',
    globalKnownHosts: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
  };
}
