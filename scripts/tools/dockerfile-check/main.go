// dockerfile-check converts a Dockerfile with BuildKit's own frontend (the code
// `docker build` runs), offline, and prints the resulting image configuration and the
// BuildKit lint warnings as JSON. No Docker engine and no registry are needed: every
// base image resolves to an empty configuration.
//
//	dockerfile-check [-target STAGE] [-build-arg K=V ...] docker/Dockerfile
//
// tests/deploy/test_dockerfiles.py runs it for every SERVICE of docker/Dockerfile.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	digest "github.com/opencontainers/go-digest"
)

type offline struct{}

func (offline) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg := `{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers"}}`
	return ref, digest.FromString(ref), []byte(cfg), nil
}

type buildArgs map[string]string

func (b buildArgs) String() string { return fmt.Sprint(map[string]string(b)) }
func (b buildArgs) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	b[k] = val
	return nil
}

type result struct {
	Entrypoint   []string          `json:"entrypoint"`
	Cmd          []string          `json:"cmd"`
	User         string            `json:"user"`
	WorkingDir   string            `json:"workingDir"`
	ExposedPorts []string          `json:"exposedPorts"`
	Env          []string          `json:"env"`
	Labels       map[string]string `json:"labels"`
	Healthcheck  []string          `json:"healthcheck"`
	Warnings     []string          `json:"warnings"`
}

func main() {
	args := buildArgs{}
	target := flag.String("target", "", "stage to build")
	flag.Var(args, "build-arg", "KEY=VALUE (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: dockerfile-check [-target STAGE] [-build-arg K=V ...] Dockerfile")
		os.Exit(2)
	}
	src, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	local := llb.Local("dockerfile")
	sm := llb.NewSourceMap(&local, flag.Arg(0), "Dockerfile", src)
	if sm.Definition, err = local.Marshal(ctx); err != nil {
		panic(err)
	}
	opt := dockerfile2llb.ConvertOpt{
		Config:       dockerui.Config{BuildArgs: args, Target: *target},
		MetaResolver: offline{},
		SourceMap:    sm,
	}
	_, img, _, _, err := dockerfile2llb.Dockerfile2LLB(ctx, src, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerfile-check:", err)
		os.Exit(1)
	}
	out := result{
		Entrypoint: img.Config.Entrypoint,
		Cmd:        img.Config.Cmd,
		User:       img.Config.User,
		WorkingDir: img.Config.WorkingDir,
		Env:        img.Config.Env,
		Labels:     img.Config.Labels,
		Warnings:   []string{},
	}
	for p := range img.Config.ExposedPorts {
		out.ExposedPorts = append(out.ExposedPorts, p)
	}
	sort.Strings(out.ExposedPorts)
	if img.Config.Healthcheck != nil {
		out.Healthcheck = img.Config.Healthcheck.Test
	}
	lint, err := dockerfile2llb.DockerfileLint(ctx, src, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerfile-check: lint:", err)
		os.Exit(1)
	}
	for _, w := range lint.Warnings {
		out.Warnings = append(out.Warnings, w.RuleName+": "+w.Detail)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
