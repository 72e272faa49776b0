"""Pay: periods now; rates, policy and statements come with the pay issue."""
