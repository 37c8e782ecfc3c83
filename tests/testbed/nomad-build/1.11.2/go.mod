// Wrapper module that builds the real Nomad agent from the Go module proxy.
// `go install github.com/hashicorp/nomad@vX` fails because nomad's go.mod has
// replace directives; a wrapper that requires nomad and repeats them can build it.
module hardened.nomad/testbed/nomadbuild

go 1.25.5

require (
	github.com/hashicorp/nomad v1.11.2
	// nomad's own `replace ./api` has no effect outside its module, so the api
	// module must be pinned here. The proxy serves no pseudo-version of the
	// v1.11.2 tag commit (f876384fe3ab); this is the api commit the 1.11.3 build uses,
	// a main-branch commit the proxy holds.
	github.com/hashicorp/nomad/api v0.0.0-20260324203407-b27b0c2e019a
)

// Copied from nomad v1.11.2's go.mod (its non-local replace lines).
replace (
	github.com/Microsoft/go-winio => github.com/endocrimes/go-winio v0.4.13-0.20190628114223-fb47a8b41948
	github.com/hashicorp/hcl => github.com/hashicorp/hcl v1.0.1-nomad-1
)
