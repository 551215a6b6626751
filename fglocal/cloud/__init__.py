"""The cloud commands' side of fglocal: FunctionGraph through the official Huawei Cloud SDK.

Only the cloud commands (``fglocal deploy``, ``fglocal invoke --cloud``, ``fglocal events``) import
this package, and only it imports the SDK (the ``cloud`` extra): the runtime that runs inside
functions and ``fglocal invoke``'s local path never load it.
"""
