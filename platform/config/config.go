// Package config reads a service's settings from command-line flags and
// environment variables. Every setting has both: the flag wins, then the
// environment variable, then the default. Settings are declared once, so the
// reference printed by -help is always complete.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Set declares the settings of one binary.
type Set struct {
	fs      *flag.FlagSet
	lookup  func(string) (string, bool)
	entries []entry
}

type entry struct {
	flag, env, usage string
	apply            func(string) error
	secret           bool
}

// NewSet returns an empty set of settings for the named binary. lookup reads
// the environment; nil means os.LookupEnv.
func NewSet(name string, lookup func(string) (string, bool)) *Set {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	s := &Set{fs: flag.NewFlagSet(name, flag.ContinueOnError), lookup: lookup}
	s.fs.Usage = func() { s.PrintReference(s.fs.Output()) }
	return s
}

// String declares a string setting.
func (s *Set) String(p *string, flagName, env, def, usage string) {
	*p = def
	s.fs.StringVar(p, flagName, def, usage)
	s.add(flagName, env, usage, false, func(v string) error { *p = v; return nil })
}

// Secret declares a string setting whose value is never printed.
func (s *Set) Secret(p *string, flagName, env, usage string) {
	s.fs.StringVar(p, flagName, "", usage)
	s.add(flagName, env, usage, true, func(v string) error { *p = v; return nil })
}

// Duration declares a duration setting such as "10s" or "1h30m".
func (s *Set) Duration(p *time.Duration, flagName, env string, def time.Duration, usage string) {
	*p = def
	s.fs.DurationVar(p, flagName, def, usage)
	s.add(flagName, env, usage, false, func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*p = d
		return nil
	})
}

// Int declares an integer setting.
func (s *Set) Int(p *int, flagName, env string, def int, usage string) {
	*p = def
	s.fs.IntVar(p, flagName, def, usage)
	s.add(flagName, env, usage, false, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		*p = n
		return nil
	})
}

// Float declares a floating-point setting.
func (s *Set) Float(p *float64, flagName, env string, def float64, usage string) {
	*p = def
	s.fs.Float64Var(p, flagName, def, usage)
	s.add(flagName, env, usage, false, func(v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return err
		}
		*p = f
		return nil
	})
}

// Bool declares a boolean setting.
func (s *Set) Bool(p *bool, flagName, env string, def bool, usage string) {
	*p = def
	s.fs.BoolVar(p, flagName, def, usage)
	s.add(flagName, env, usage, false, func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		*p = b
		return nil
	})
}

func (s *Set) add(flagName, env, usage string, secret bool, apply func(string) error) {
	s.entries = append(s.entries, entry{flag: flagName, env: env, usage: usage, apply: apply, secret: secret})
}

// Parse applies the environment, then the flags in args. It returns
// flag.ErrHelp when -help was asked for.
func (s *Set) Parse(args []string) error {
	var errs []error
	for _, e := range s.entries {
		if e.env == "" {
			continue
		}
		if v, ok := s.lookup(e.env); ok && v != "" {
			if err := e.apply(v); err != nil {
				errs = append(errs, fmt.Errorf("environment variable %s: %w", e.env, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.fs.Parse(args)
}

// SetOutput sends -help and parse errors to w.
func (s *Set) SetOutput(w io.Writer) { s.fs.SetOutput(w) }

// PrintReference writes every setting with its flag, variable and default.
func (s *Set) PrintReference(w io.Writer) {
	entries := append([]entry(nil), s.entries...)
	sort.Slice(entries, func(i, j int) bool { return entries[i].flag < entries[j].flag })
	fmt.Fprintf(w, "Usage of %s (flags override environment variables):\n", s.fs.Name())
	for _, e := range entries {
		def := s.fs.Lookup(e.flag).DefValue
		if e.secret {
			def = ""
		}
		if e.env == "" {
			// A flag with no variable: a one-off command, not a setting.
			fmt.Fprintf(w, "  -%s\n      %s", e.flag, e.usage)
		} else {
			fmt.Fprintf(w, "  -%s  (%s)\n      %s", e.flag, e.env, e.usage)
		}
		if def != "" {
			fmt.Fprintf(w, " (default %q)", def)
		}
		fmt.Fprintln(w)
	}
}

// ParsePairs parses "a=x,b=y" into a map, as used for lists of service
// credentials. Empty input gives an empty map.
func ParsePairs(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q is not of the form name=value", k)
		}
		out[k] = v
	}
	return out, nil
}
