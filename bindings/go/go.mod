module spinner_rollback.example/go/spinnerrollback

go 1.24
