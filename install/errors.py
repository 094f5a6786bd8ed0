"""The one exception the installer raises on purpose."""


class InstallError(Exception):
    """A problem the user can fix; its message says how. The installer exits with code 2.

    Anything else that escapes is a bug in the installer and exits with code 1.
    """
