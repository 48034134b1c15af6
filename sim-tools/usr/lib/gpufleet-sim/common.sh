# Shared by the emulated tools (bash): hardware description and state of this simulated host.
HW=/var/lib/sim-hw
. "$HW/profile.env"
running_kver() { local k; read -r k < "$HW/kver"; printf '%s' "$k"; }
