module github.com/nexus-broker/nexus/clients/go

go 1.19
