/**
 * The shell glue `sshmux completion SHELL` prints. Each script asks `sshmux completion --complete`
 * for the candidates at TAB time, so commands, options and ssh_config hosts come from sshmux's own
 * grammar and config reader, never from a copy in the script that could fall behind.
 */

/** The shells there is a script for. */
export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

function bash(version: string): string {
  return `# bash completion for sshmux ${version}, printed by \`sshmux completion bash\`.
# Load it now:  source <(sshmux completion bash)
# For good:     sshmux completion bash > ~/.local/share/bash-completion/completions/sshmux
_sshmux_completion() {
    local line directive= IFS=$'\\n'
    # Split the line up to the cursor on blanks only: ':' and '=' are in COMP_WORDBREAKS.
    local before=\${COMP_LINE:0:COMP_POINT}
    local -a words
    IFS=$' \\t' read -r -a words <<< "$before"
    [[ $before == *[[:blank:]] || \${#words[@]} -eq 0 ]] && words+=("")
    local cur=\${words[\${#words[@]}-1]}
    COMPREPLY=()
    local -a out
    out=($("\${words[0]}" completion --complete -- "\${words[@]:1}" 2>/dev/null))
    for line in "\${out[@]}"; do
        case $line in
            :*) directive=$line ;;
            *) COMPREPLY+=("\${line%%$'\\t'*}") ;;
        esac
    done
    # bash replaces only the text after the last ':' of COMP_WORDBREAKS: drop what precedes it.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local strip=\${cur%"\${cur##*:}"} i
        for i in "\${!COMPREPLY[@]}"; do COMPREPLY[i]=\${COMPREPLY[i]#"$strip"}; done
    fi
    if [[ $directive == *files* ]]; then
        COMPREPLY+=($(compgen -f -- "$cur"))
        type compopt &>/dev/null && compopt -o filenames 2>/dev/null
    fi
    [[ $directive == *nospace* ]] && type compopt &>/dev/null && compopt -o nospace 2>/dev/null
    return 0
}
complete -F _sshmux_completion sshmux
`;
}

function zsh(version: string): string {
  return `#compdef sshmux
# zsh completion for sshmux ${version}, printed by \`sshmux completion zsh\`.
# Load it now:  source <(sshmux completion zsh)      (after compinit)
# For good:     sshmux completion zsh > "\${fpath[1]}/_sshmux"
_sshmux() {
    local line directive
    local -a out described plain
    out=("\${(@f)$("\${words[1]}" completion --complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
    for line in "\${out[@]}"; do
        if [[ $line == :* ]]; then
            directive=$line
        elif [[ $line == *$'\\t'* ]]; then
            described+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
        elif [[ -n $line ]]; then
            plain+=("$line")
        fi
    done
    (( \${#described} )) && _describe -t sshmux 'sshmux' described
    if (( \${#plain} )); then
        if [[ $directive == *nospace* ]]; then compadd -S '' -- "\${plain[@]}"; else compadd -- "\${plain[@]}"; fi
    fi
    [[ $directive == *files* ]] && _files
    return 0
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
    _sshmux "$@"
else
    compdef _sshmux sshmux
fi
`;
}

function fish(version: string): string {
  return `# fish completion for sshmux ${version}, printed by \`sshmux completion fish\`.
# Load it now:  sshmux completion fish | source
# For good:     sshmux completion fish > ~/.config/fish/completions/sshmux.fish
function __sshmux_complete
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    set -l directive
    for line in ($tokens[1] completion --complete -- $tokens[2..-1] "$current" 2>/dev/null)
        if string match -q -- ':*' $line
            set directive $line
        else
            printf '%s\\n' $line
        end
    end
    if string match -q -- '*files*' "$directive"
        __fish_complete_path "$current"
    end
end
complete -c sshmux -f -a '(__sshmux_complete)'
`;
}

function powershell(version: string): string {
  return `# PowerShell completion for sshmux ${version}, printed by \`sshmux completion powershell\`.
# Load it now:  sshmux completion powershell | Out-String | Invoke-Expression
# For good:     add that line to $PROFILE
Register-ArgumentCompleter -Native -CommandName sshmux -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements |
        Where-Object { $_.Extent.EndOffset -le $cursorPosition } |
        ForEach-Object { $_.ToString() })
    if ($wordToComplete -eq '' -or $words.Count -eq 1) { $previous = @($words | Select-Object -Skip 1) }
    else { $previous = @($words | Select-Object -Skip 1 | Select-Object -SkipLast 1) }
    # Windows PowerShell drops empty arguments to native programs: the word goes as '=word'.
    $out = & $words[0] completion --complete "--current==$wordToComplete" -- @previous 2>$null
    $directive = ''
    foreach ($line in $out) {
        if ($line.StartsWith(':')) { $directive = $line; continue }
        $parts = $line -split "\`t", 2
        $tip = if ($parts.Count -gt 1) { $parts[1] } else { $parts[0] }
        [System.Management.Automation.CompletionResult]::new($parts[0], $parts[0], 'ParameterValue', $tip)
    }
    if ($directive -like '*files*') {
        Get-ChildItem -Path "$wordToComplete*" -ErrorAction SilentlyContinue | ForEach-Object {
            [System.Management.Automation.CompletionResult]::new($_.Name, $_.Name, 'ProviderItem', $_.FullName)
        }
    }
}
`;
}

/** The completion script for `shell`. */
export function completionScript(shell: Shell, version: string): string {
  switch (shell) {
    case 'bash':
      return bash(version);
    case 'zsh':
      return zsh(version);
    case 'fish':
      return fish(version);
    case 'powershell':
      return powershell(version);
  }
}
