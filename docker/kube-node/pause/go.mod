module pgchaos.local/pause

go 1.25
