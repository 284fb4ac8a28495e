// runc-shim: a runtime in front of runc for kernels that withhold CAP_SYS_RESOURCE.
//
// On some machines (this project's CI microVMs) CAP_SYS_RESOURCE is missing from the
// bounding set of every process, root included. runc then fails in two ways:
//   - a spec that asks for CAP_SYS_RESOURCE (docker run --privileged, kind's node
//     container) fails with "unable to apply caps: operation not permitted";
//   - a negative process.oomScoreAdj (every CRI pod sandbox asks for -998) needs
//     CAP_SYS_RESOURCE to write, and fails with "can't get final child's PID from pipe".
//
// This program edits the OCI spec runc is about to use, then execs the real runc with
// the same arguments:
//   - create/run: <bundle>/config.json (bundle from --bundle/-b, default the cwd);
//   - exec: the process spec given by --process/-p.
//
// It removes CAP_SYS_RESOURCE from every capability set and clamps a negative
// oomScoreAdj to 0. Nothing else changes; every other runc command passes straight through.
//
// dockerd uses it as its default runtime (scripts/test-env/docker.sh) only when
// /proc/self/status shows CAP_SYS_RESOURCE missing from CapBnd. The real runc is
// $RUNC_SHIM_RUNC, else the first of /usr/sbin/runc, /usr/bin/runc, /usr/local/sbin/runc.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

const dropCap = "CAP_SYS_RESOURCE"

func main() {
	args := os.Args[1:]
	cmd, rest := subcommand(args)
	var err error
	switch cmd {
	case "create", "run":
		bundle := flagValue(rest, "bundle", "b")
		if bundle == "" {
			bundle = "."
		}
		err = patchFile(filepath.Join(bundle, "config.json"), patchSpec)
	case "exec":
		if p := flagValue(rest, "process", "p"); p != "" {
			err = patchFile(p, patchProcess)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "runc-shim: %v\n", err)
		os.Exit(1)
	}
	runc := realRunc()
	if err := syscall.Exec(runc, append([]string{runc}, args...), os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "runc-shim: exec %s: %v\n", runc, err)
		os.Exit(1)
	}
}

// globalWithValue lists runc's global flags that take a separate value, so that the
// subcommand is found after them (e.g. `runc --root /x --log /y create ...`).
var globalWithValue = map[string]bool{
	"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true,
}

func subcommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a, args[i+1:]
		}
		if globalWithValue[a] {
			i++
		}
	}
	return "", nil
}

// flagValue finds --long VALUE, --long=VALUE, -short VALUE or -short=VALUE
// (runc's CLI accepts one or two dashes for either name).
func flagValue(args []string, long, short string) string {
	for i, a := range args {
		name := strings.TrimLeft(a, "-")
		if name == a {
			continue
		}
		if k, v, ok := strings.Cut(name, "="); ok {
			if k == long || k == short {
				return v
			}
			continue
		}
		if (name == long || name == short) && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func patchFile(path string, patch func(map[string]any) bool) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep large integers (memory limits, ids) exactly as written
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !patch(doc) {
		return nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp := path + ".runc-shim"
	if err := os.WriteFile(tmp, out, info.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func patchSpec(spec map[string]any) bool {
	proc, ok := spec["process"].(map[string]any)
	if !ok {
		return false
	}
	return patchProcess(proc)
}

func patchProcess(proc map[string]any) bool {
	changed := false
	if caps, ok := proc["capabilities"].(map[string]any); ok {
		for set, v := range caps {
			list, ok := v.([]any)
			if !ok {
				continue
			}
			kept := list[:0:0]
			for _, c := range list {
				if c == dropCap {
					changed = true
					continue
				}
				kept = append(kept, c)
			}
			caps[set] = kept
		}
	}
	if n, ok := proc["oomScoreAdj"].(json.Number); ok {
		if v, err := n.Int64(); err == nil && v < 0 {
			proc["oomScoreAdj"] = 0
			changed = true
		}
	}
	return changed
}

func realRunc() string {
	if p := os.Getenv("RUNC_SHIM_RUNC"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("runc"); err == nil {
		return p
	}
	return "/usr/sbin/runc"
}
