// Loaded by node.exe under Wine (`--import`) before the CLI: Wine sets the profile variables
// (USERPROFILE, LOCALAPPDATA, APPDATA) from its registry when a process starts from Linux,
// whatever the Linux environment says. A test's own values travel as SSHMUX_WINE_PROFILE_<NAME>
// and are put in place here, as a Windows user with that profile would have them; child
// processes (the daemon) inherit them like any other variable.
const PREFIX = 'SSHMUX_WINE_PROFILE_';
for (const [name, value] of Object.entries(process.env)) {
  if (name.startsWith(PREFIX) && value !== undefined) process.env[name.slice(PREFIX.length)] = value;
}
