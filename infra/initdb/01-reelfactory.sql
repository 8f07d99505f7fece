-- reelfactory keeps its own tables in their own database, beside Prefect's.
CREATE DATABASE reelfactory;
