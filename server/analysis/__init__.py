"""Pure analysis of FunctionGraph handler modules: text in, plain data out (no LSP types here)."""
