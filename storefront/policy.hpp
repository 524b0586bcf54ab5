// The access policy for objects: what each role sees of each kind of object, once the
// object-level rule has placed the caller relative to it (their own, assigned to them, in
// their area, or unrelated). Who may call which operation is declared in the route table
// (route_table.hpp); this table says which fields they then see. Read it as a table:
//
//   object          role              own     assigned  in area   unrelated
//   household card  farmer            full    -         -         -
//                   poverty office    -       -         full      -
//                   county centre     -       -         masked    -
//                   helper            -       masked    -         -
//                   admin             masked  masked    masked    masked
//   order           buyer (consumer,  full    -         -         -
//                   org buyer)
//                   shop (farmer,     full    -         -         -
//                   shop manager)
//                   county centre,    -       -         full      -
//                   poverty office
//                   station operator  -       masked    -         -
//                   (its orders: routed through its node)
//                   admin             full    full      full      full
//
// "full" shows names, phones and ID numbers whole (health only to the office and the
// household itself); "masked" shows them masked and leaves out health and birth years;
// "-" is none: the object answers 404, as an unknown one does.
#pragma once

#include "storefront/auth.hpp"

namespace cunhuo::storefront {

enum class ObjectKind { household_card, order };
enum class Relation { own, assigned, in_area, unrelated };
enum class View { none, masked, full };

View view_of(ObjectKind kind, Role role, Relation relation);

}  // namespace cunhuo::storefront
