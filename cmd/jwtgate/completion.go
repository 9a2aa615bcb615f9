package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/jwtgate/jwtgate/internal/completion"
)

// shells are those jwtgate completion writes scripts for.
var shells = []string{"bash", "zsh", "fish"}

var completionUsage = `Usage: jwtgate completion ` + strings.Join(shells, "|") + `

Prints a shell completion script for jwtgate's commands and flags:
  bash:  source <(jwtgate completion bash)   (or save it in ~/.local/share/bash-completion/completions/jwtgate)
  zsh:   jwtgate completion zsh > "${fpath[1]}/_jwtgate"
  fish:  jwtgate completion fish > ~/.config/fish/completions/jwtgate.fish
`

func cmdCompletion(shell string, args []string, s stdio) int {
	prefix := "jwtgate completion " + shell
	c := newCommand(prefix, prefix, "Prints the "+shell+" completion script for jwtgate (see jwtgate completion -h).", nil)
	pos, code, ok := c.parse(args, s.out, s.err)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(s.err, "%s: unexpected argument %q\n", prefix, pos[0])
		return 2
	}
	write := map[string]func(io.Writer, *completion.Command) error{"bash": completion.Bash, "zsh": completion.Zsh, "fish": completion.Fish}[shell]
	if err := write(s.out, completionTree()); err != nil {
		fmt.Fprintf(s.err, "%s: %v\n", prefix, err)
		return 1
	}
	return 0
}

// completionTree is the command table with each command's flags, read
// from what the command itself prints for -h: the flags it registers on
// its FlagSet, so the scripts cannot miss one.
func completionTree() *completion.Command {
	root := &completion.Command{Name: "jwtgate", Flags: []string{"help", "version"}}
	var walk func(parent *completion.Command, cmds []*cmd, path []string)
	walk = func(parent *completion.Command, cmds []*cmd, path []string) {
		for _, c := range cmds {
			p := append(append([]string(nil), path...), c.name)
			cc := &completion.Command{Name: c.name, Flags: []string{"help"}}
			if len(c.subs) == 0 && c.name != "help" {
				cc.Flags = flagsOf(p)
			}
			walk(cc, c.subs, p)
			parent.Subs = append(parent.Subs, cc)
		}
	}
	walk(root, commands(), nil)
	return root
}

// flagsOf runs the command at path with -h and returns the names of the
// flags its usage lists after flagsHeading ("  -name type").
func flagsOf(path []string) []string {
	var out bytes.Buffer
	run(append(append([]string(nil), path...), "-h"), strings.NewReader(""), &out, io.Discard, func(string) string { return "" })
	names := []string{"help"}
	sc := bufio.NewScanner(&out)
	inFlags := false
	for sc.Scan() {
		line := sc.Text()
		if line == flagsHeading {
			inFlags = true
			continue
		}
		if !inFlags || !strings.HasPrefix(line, "  -") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(line, "  -"), " ")
		name, _, _ = strings.Cut(name, "\t")
		names = append(names, name)
	}
	return names
}
