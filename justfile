# Everyday commands; each is a one-liner over cargo. `just --list` shows them.

# Serve on 127.0.0.1:8000 with SQLite under data/.
run:
    cargo run -p auth-server

# Every test (the PostgreSQL half runs when AUTH_TEST_DATABASE_URL is set).
test:
    cargo test --workspace

# Every test, PostgreSQL included, against the local server.
test-all:
    AUTH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test --workspace

# Lints as CI runs them.
lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# What CI runs.
ci:
    bash .ci/run
