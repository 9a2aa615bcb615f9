// Command benchtable turns `go test -bench` output (any -count) into
// Markdown tables of medians with ratios to the baselines, for
// BENCHMARKS.md. It reads standard input or the files named as arguments.
//
// Each ratio is the median over rounds of the per-round ratio (the i-th
// sample of a case over the i-th sample of its baseline): run.sh runs
// interleaved rounds, so this pairs samples taken close together in
// time, which a noisy machine needs. With unequal sample counts it falls
// back to the ratio of the medians.
//
// Ratios: within a group (BenchmarkVerifyHS256, BenchmarkSignHS256, ...)
// every case is divided by each sub-benchmark named "golangjwt" or
// "floor*"; for the in-package jwt benchmarks, BenchmarkVerify/<ALG> is
// divided by its BenchmarkFloor* and BenchmarkVerifyServerClaims by
// BenchmarkFloorHMACSHA256.
package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

type sample struct{ ns, bytes, allocs []float64 }

type result struct {
	name                   string
	ns, min, bytes, allocs float64
	samples                []float64
}

// ratio is the median of the per-round ratios of a to b.
func ratio(a, b result) float64 {
	if len(a.samples) == 0 || len(a.samples) != len(b.samples) {
		return a.ns / b.ns
	}
	r := make([]float64, len(a.samples))
	for i := range r {
		r[i] = a.samples[i] / b.samples[i]
	}
	return median(r)
}

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)

func main() {
	var in []io.Reader
	for _, f := range os.Args[1:] {
		fh, err := os.Open(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer fh.Close()
		in = append(in, fh)
	}
	if len(in) == 0 {
		in = append(in, os.Stdin)
	}
	samples := map[string]*sample{}
	var order []string
	for _, r := range in {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			m := line.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			s := samples[m[1]]
			if s == nil {
				s = &sample{}
				samples[m[1]] = s
				order = append(order, m[1])
			}
			ns, _ := strconv.ParseFloat(m[2], 64)
			s.ns = append(s.ns, ns)
			f := strings.Fields(m[3])
			for i := 0; i+1 < len(f); i += 2 {
				v, _ := strconv.ParseFloat(f[i], 64)
				switch f[i+1] {
				case "B/op":
					s.bytes = append(s.bytes, v)
				case "allocs/op":
					s.allocs = append(s.allocs, v)
				}
			}
		}
	}
	res := map[string]result{}
	for name, s := range samples {
		res[name] = result{name: name, ns: median(s.ns), min: slices.Min(s.ns), bytes: median(s.bytes), allocs: median(s.allocs), samples: s.ns}
	}

	// Cross-library groups: Benchmark<Group>/<case>.
	groups := map[string][]string{}
	var gorder []string
	for _, name := range order {
		g, c, ok := strings.Cut(strings.TrimPrefix(name, "Benchmark"), "/")
		if !ok || g == "Sign" || g == "Verify" {
			continue
		}
		if _, seen := groups[g]; !seen {
			gorder = append(gorder, g)
		}
		groups[g] = append(groups[g], c)
	}
	for _, g := range gorder {
		cases := groups[g]
		var bases []string
		for _, c := range cases {
			if c == "golangjwt" || strings.HasPrefix(c, "floor") {
				bases = append(bases, c)
			}
		}
		fmt.Printf("### %s\n\n", g)
		rows := make([]row, 0, len(cases))
		for _, c := range cases {
			r := row{label: c, r: res["Benchmark"+g+"/"+c]}
			for _, b := range bases {
				r.ratios = append(r.ratios, ratio(r.r, res["Benchmark"+g+"/"+b]))
			}
			rows = append(rows, r)
		}
		printTable(rows, bases)
	}

	// In-package jwt benchmarks.
	floors := map[string]string{
		"RS256": "FloorRS256", "PS256": "FloorPS256",
		"ES256": "FloorES256", "ES384": "FloorES384", "ES512": "FloorES512",
		"EdDSA": "FloorEd25519Verify",
	}
	var vrows, srows []row
	for _, name := range order {
		rest, ok := strings.CutPrefix(name, "Benchmark")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(rest, "Verify/"):
			alg := strings.TrimPrefix(rest, "Verify/")
			r := row{label: rest, r: res[name], ratios: []float64{math.NaN()}}
			if f, ok := res["Benchmark"+floors[alg]]; ok {
				r.ratios[0] = ratio(r.r, f)
				r.base = floors[alg]
			}
			vrows = append(vrows, r)
		case rest == "VerifyServerClaims" || rest == "VerifyStruct":
			r := row{label: rest, r: res[name], ratios: []float64{math.NaN()}}
			if f, ok := res["BenchmarkFloorHMACSHA256"]; ok {
				r.ratios[0] = ratio(r.r, f)
				r.base = "FloorHMACSHA256"
			}
			vrows = append(vrows, r)
		case strings.HasPrefix(rest, "Sign/") || rest == "SignServerClaims":
			srows = append(srows, row{label: rest, r: res[name]})
		case strings.HasPrefix(rest, "Floor"):
			vrows = append(vrows, row{label: rest, r: res[name], ratios: []float64{math.NaN()}})
		}
	}
	if len(vrows) > 0 {
		fmt.Printf("### jwt: verify (in-package)\n\n")
		printTable(vrows, []string{"floor"})
	}
	if len(srows) > 0 {
		fmt.Printf("### jwt: sign (in-package)\n\n")
		printTable(srows, nil)
	}
}

type row struct {
	label  string
	r      result
	ratios []float64
	base   string // shown next to a single ratio when it varies by row
}

func printTable(rows []row, bases []string) {
	fmt.Print("| case | ns/op (median) | ns/op (min) | B/op | allocs/op |")
	for _, b := range bases {
		fmt.Printf(" × %s |", b)
	}
	fmt.Print("\n|---|---:|---:|---:|---:|")
	for range bases {
		fmt.Print("---:|")
	}
	fmt.Println()
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %.0f | %.0f |", r.label, ns(r.r.ns), ns(r.r.min), r.r.bytes, r.r.allocs)
		for _, x := range r.ratios {
			switch {
			case math.IsNaN(x):
				fmt.Print(" |")
			case r.base != "":
				fmt.Printf(" %.2f (%s) |", x, r.base)
			default:
				fmt.Printf(" %.2f |", x)
			}
		}
		fmt.Println()
	}
	fmt.Println()
}

func ns(v float64) string {
	switch {
	case v >= 100_000:
		return strconv.FormatFloat(math.Round(v/1000), 'f', 0, 64) + " µs"
	case v >= 10_000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + " µs"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
