"""FunctionGraph's runtime inside the function's process (Python 2.7 and 3.6+; see ``fglocal._instance``)."""
