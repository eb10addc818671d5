"""Quality checks: each module returns Findings for one family of standards."""
