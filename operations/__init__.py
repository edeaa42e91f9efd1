"""Operations on rails: the daily/weekly/deploy checklists, docs drift and commit-rule checks."""
