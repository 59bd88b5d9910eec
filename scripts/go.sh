# Sourced by the scripts that build a tool from Go modules: sets $go to the Go binary, or says how to
# get one and exits 2. $1: what is being built, for the message.
go=$(command -v go || echo /usr/local/go/bin/go)
if [ ! -x "$go" ]; then
  echo "pgchaos: $1 is built from source and needs Go (https://go.dev/dl/, or apt-get install golang-go)" >&2
  exit 2
fi
