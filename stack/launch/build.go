package launch

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Binaries are the system's programs, with the module folder of each; the
// main package is cmd/<name> in that folder. web is the website;
// disputesctl is the operator's command-line tool.
var Binaries = map[string]string{
	"directory":    "services/directory",
	"intake":       "services/intake",
	"casework":     "services/casework",
	"notification": "services/notification",
	"gateway":      "gateway",
	"web":          "web",
	"disputesctl":  "operator",
}

// Services are the four services, in the order they are started.
var Services = []string{"directory", "intake", "casework", "notification"}

// Build compiles the named binaries (the services, the gateway and the
// website when none is named) from the repository at root into out. Each is
// built inside its own module with GOWORK=off, as it would be shipped.
func Build(ctx context.Context, root, out string, names ...string) error {
	return BuildTagged(ctx, root, out, nil, names...)
}

// BuildTagged is Build with build tags: the whole-system tests build with
// "testclock" to move casework's clock (see platform/testclock). What ships
// is built without tags.
func BuildTagged(ctx context.Context, root, out string, tags []string, names ...string) error {
	if len(names) == 0 {
		names = append(append([]string(nil), Services...), "gateway", "web")
	}
	for _, name := range names {
		dir, ok := Binaries[name]
		if !ok {
			return fmt.Errorf("unknown binary %q", name)
		}
		args := []string{"build", "-o", filepath.Join(out, name)}
		if len(tags) > 0 {
			args = append(args, "-tags", strings.Join(tags, ","))
		}
		cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/"+name)...)
		cmd.Dir = filepath.Join(root, dir)
		cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %w\n%s", name, err, strings.TrimSpace(string(b)))
		}
	}
	return nil
}
