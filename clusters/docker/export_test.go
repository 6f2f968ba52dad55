package docker

// SetRouted overrides whether the host routes to the run network, so that a
// test on a host that does can also take the path of one that does not
// (Docker Desktop, a remote or rootless engine): ports to reach published.
func (r *Run) SetRouted(on bool) { r.routed = on }
