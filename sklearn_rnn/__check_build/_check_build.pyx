# Tiny extension imported first: if it is missing, the package was not built.


def check_build():
    return
