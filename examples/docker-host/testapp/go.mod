module spr.example/testapp

go 1.22
