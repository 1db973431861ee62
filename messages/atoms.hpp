// Atoms for the typed interfaces (CAF 0.17: at most 10 chars of [0-9A-Za-z_]).
#pragma once

#include <caf/atom.hpp>

namespace rcmgr {

using get_atom = caf::atom_constant<caf::atom("get")>;
using dump_atom = caf::atom_constant<caf::atom("dump")>;
using dump_part_atom = caf::atom_constant<caf::atom("dump_part")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsubscr")>;
using counts_atom = caf::atom_constant<caf::atom("counts")>;
using bypass_atom = caf::atom_constant<caf::atom("bypass")>;
using query_atom = caf::atom_constant<caf::atom("query")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using config_atom = caf::atom_constant<caf::atom("config")>;
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using throttle_atom = caf::atom_constant<caf::atom("throttle")>;
using monitor_atom = caf::atom_constant<caf::atom("monitor")>;

} // namespace rcmgr
