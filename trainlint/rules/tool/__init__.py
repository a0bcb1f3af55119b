"""TL0xx: findings about trainlint itself (a file it cannot read, a rule that failed, a traced script that stopped)."""
