module perflab.example/benchdemo

go 1.19
