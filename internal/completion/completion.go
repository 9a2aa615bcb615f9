// Package completion writes shell completion scripts for a command tree:
// subcommands at every level, and each command's flags.
package completion

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Command is a command of the tree: its subcommands and its flags, named
// without dashes (completed as --name).
type Command struct {
	Name  string
	Flags []string
	Subs  []*Command
}

// node is a command with the words that lead to it: "jwtgate user add".
type node struct {
	path  string
	subs  []string
	flags []string
}

func flatten(root *Command) []node {
	var out []node
	var walk func(c *Command, path string)
	walk = func(c *Command, path string) {
		n := node{path: path}
		for _, s := range c.Subs {
			n.subs = append(n.subs, s.Name)
		}
		for _, f := range c.Flags {
			n.flags = append(n.flags, "--"+f)
		}
		sort.Strings(n.flags)
		out = append(out, n)
		for _, s := range c.Subs {
			walk(s, path+" "+s.Name)
		}
	}
	walk(root, root.Name)
	return out
}

// The scripts find the command being typed the same way in every shell:
// from the words before the cursor, skipping those that start with "-",
// each word that names a subcommand of the path so far extends it. The
// cursor's word then completes to a flag of that command when it starts
// with "-", else to one of its subcommands.

// Bash writes a script for bash (source it, or put it in
// /etc/bash_completion.d or ~/.local/share/bash-completion/completions).
func Bash(w io.Writer, root *Command) error {
	fn := "_" + ident(root.Name)
	var b strings.Builder
	fmt.Fprintf(&b, "# bash completion for %s\n\n", root.Name)
	writeCase(&b, fn+"_subs", flatten(root), func(n node) []string { return n.subs })
	writeCase(&b, fn+"_flags", flatten(root), func(n node) []string { return n.flags })
	fmt.Fprintf(&b, `%[1]s() {
    local cur="${COMP_WORDS[COMP_CWORD]}" cmdpath=%[2]s w i
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${COMP_WORDS[i]}"
        case "$w" in -*) continue ;; esac
        case " $(%[1]s_subs "$cmdpath") " in *" $w "*) cmdpath="$cmdpath $w" ;; esac
    done
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$(%[1]s_flags "$cmdpath")" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$(%[1]s_subs "$cmdpath")" -- "$cur"))
    fi
}
complete -o default -F %[1]s %[2]s
`, fn, root.Name)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCase writes a shell function that prints the words of the command
// path given as its argument.
func writeCase(b *strings.Builder, name string, nodes []node, words func(node) []string) {
	fmt.Fprintf(b, "%s() {\n    case \"$1\" in\n", name)
	for _, n := range nodes {
		if ws := words(n); len(ws) > 0 {
			fmt.Fprintf(b, "    %s) echo %s ;;\n", quote(n.path), quote(strings.Join(ws, " ")))
		}
	}
	b.WriteString("    esac\n}\n\n")
}

// Zsh writes a script for zsh (save it as _NAME in a folder of $fpath).
func Zsh(w io.Writer, root *Command) error {
	fn := "_" + ident(root.Name)
	var b strings.Builder
	fmt.Fprintf(&b, "#compdef %s\n# zsh completion for %s\n\n", root.Name, root.Name)
	writeCase(&b, fn+"_subs", flatten(root), func(n node) []string { return n.subs })
	writeCase(&b, fn+"_flags", flatten(root), func(n node) []string { return n.flags })
	fmt.Fprintf(&b, `%[1]s() {
    local cmdpath=%[2]s w i
    for ((i = 2; i < CURRENT; i++)); do
        w=${words[i]}
        [[ $w == -* ]] && continue
        [[ " $(%[1]s_subs "$cmdpath") " == *" $w "* ]] && cmdpath="$cmdpath $w"
    done
    if [[ ${words[CURRENT]} == -* ]]; then
        compadd -- ${=$(%[1]s_flags "$cmdpath")}
    else
        compadd -- ${=$(%[1]s_subs "$cmdpath")}
    fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    %[1]s "$@"
else
    compdef %[1]s %[2]s
fi
`, fn, root.Name)
	_, err := io.WriteString(w, b.String())
	return err
}

// Fish writes a script for fish (save it as
// ~/.config/fish/completions/NAME.fish).
func Fish(w io.Writer, root *Command) error {
	fn := "__" + ident(root.Name)
	nodes := flatten(root)
	var b strings.Builder
	fmt.Fprintf(&b, "# fish completion for %s\n\n", root.Name)
	fmt.Fprintf(&b, "function %s_subs\n    switch $argv[1]\n", fn)
	for _, n := range nodes {
		if len(n.subs) > 0 {
			fmt.Fprintf(&b, "        case %s\n            printf '%%s\\n' %s\n", quote(n.path), strings.Join(n.subs, " "))
		}
	}
	b.WriteString("    end\nend\n\n")
	fmt.Fprintf(&b, `function %[1]s_path
    set -l cmdpath %[2]s
    for w in (commandline -opc)[2..-1]
        string match -q -- '-*' $w; and continue
        contains -- $w (%[1]s_subs "$cmdpath"); and set cmdpath "$cmdpath $w"
    end
    echo $cmdpath
end

function %[1]s_at
    test (%[1]s_path) = "$argv[1]"
end

complete -c %[2]s -f
`, fn, root.Name)
	for _, n := range nodes {
		cond := `"` + fn + "_at " + quote(n.path) + `"`
		if len(n.subs) > 0 {
			fmt.Fprintf(&b, "complete -c %s -n %s -a %s\n", root.Name, cond, quote(strings.Join(n.subs, " ")))
		}
		for _, f := range n.flags {
			fmt.Fprintf(&b, "complete -c %s -n %s -l %s\n", root.Name, cond, strings.TrimPrefix(f, "--"))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// quote quotes s for the shell in single quotes.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ident makes a command name usable in a function name.
func ident(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
