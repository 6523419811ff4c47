// Command brokenfn does not compile, so the build failure path can be tested.
package main

func main() { undefinedFunction() }
