module pgha.dev/test/pause

go 1.24.0
