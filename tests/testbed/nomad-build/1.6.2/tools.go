//go:build tools

// Package nomadbuild only records that this module builds the nomad command.
package nomadbuild

import _ "github.com/hashicorp/nomad"
