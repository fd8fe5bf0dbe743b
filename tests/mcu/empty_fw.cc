// The baseline of the footprint check: start-up, semihosting exit and nothing else. Its size
// is subtracted from the other images' to give what the runtime itself costs.
int main() { return 0; }
