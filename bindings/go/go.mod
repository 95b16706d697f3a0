module github.com/spinner-rollback/spinner_rollback/bindings/go

go 1.24
