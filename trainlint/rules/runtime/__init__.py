"""TL9xx: findings only a traced run can make (the tracer's checks live in `trainlint/runtime/`)."""
