"""Storage: the SQLAlchemy schema, repositories, unit of work and Alembic migrations."""
