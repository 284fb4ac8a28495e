module market-pipeline/runc-shim

go 1.22
