"""Information-sharing agreements as the hub holds them: loaded from git, checked live."""
