"""What odfix publishes from the guide: KB article, ticket note, Intune Remediation scripts."""
