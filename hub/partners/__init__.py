"""Partner agencies: declarations in git, the registry in the database, their keys."""
