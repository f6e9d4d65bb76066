%% A token passed around a ring of processes: message passing and scheduling, nothing else.
-module(ring).
-export([main/1]).

main([Procs, Hops]) ->
    N = list_to_integer(Procs),
    M = list_to_integer(Hops),
    Self = self(),
    First = lists:foldl(fun(_, Next) -> spawn(fun() -> relay(Next) end) end, Self,
                        lists:seq(1, N - 1)),
    T0 = erlang:monotonic_time(microsecond),
    First ! {token, M},
    wait(First),
    T1 = erlang:monotonic_time(microsecond),
    io:format(standard_error, "schedulers=~w online=~w bindings=~w~n",
              [erlang:system_info(schedulers), erlang:system_info(schedulers_online),
               erlang:system_info(scheduler_bindings)]),
    io:format("{\"benchmarks\": [{\"name\": \"ring\", \"params\": {\"procs\": \"~w\"}, "
              "\"metrics\": {\"time\": {\"unit\": \"us\", \"direction\": \"lower\", "
              "\"samples\": [~w]}}}]}~n", [N, T1 - T0]),
    halt().

relay(Next) ->
    receive
        {token, 0} = Msg -> Next ! Msg;
        {token, K} -> Next ! {token, K - 1}, relay(Next)
    end.

wait(First) ->
    receive
        {token, 0} -> ok;
        {token, K} -> First ! {token, K - 1}, wait(First)
    end.
