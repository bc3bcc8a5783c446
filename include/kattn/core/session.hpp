// keras.utils.clear_session(): the naming state Keras keeps for a session, reset.
#pragma once

namespace kattn {

// Resets the counters behind Keras's auto names, as keras.utils.clear_session() does: the next
// unnamed Dense is "dense" again, the next unnamed model "functional". Objects already made keep
// their names. The seed stream of set_random_seed is left as it is.
void clear_session();

}  // namespace kattn
