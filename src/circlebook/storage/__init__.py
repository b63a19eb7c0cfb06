"""Storage: the SQLAlchemy schema, a repository per concept, unit of work and Alembic migrations."""
