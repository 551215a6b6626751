"""The CLI-facing part of each subcommand: a module that registers its options and runs it."""
