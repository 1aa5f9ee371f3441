namespace FlowOrleans.Tests.Reliability.Concurrency;

/// <summary>One atomic step of an actor: it may run only while <see cref="Enabled"/> holds (a writer waits for its write).</summary>
internal sealed record Step(string Name, Func<bool> Enabled, Action Run)
{
    public static Step Always(string name, Action run) => new(name, static () => true, run);
}

/// <summary>A system under exploration: fresh state, the actors' step lists, and what must hold once they are done.</summary>
internal interface IExplored
{
    IReadOnlyList<IReadOnlyList<Step>> Actors { get; }

    /// <summary>
    /// Takes one step that needs no scheduling choice because it happens eventually whatever else does (a loop whose
    /// signal is set); false when there is none. Asked only when no actor can go on.
    /// </summary>
    bool Quiesce();

    /// <summary>Runs after every actor finished (or none can go on): null when all is well, else what went wrong.</summary>
    string? Check(bool deadlocked);
}

/// <summary>
/// A deterministic scheduler of our own: it runs every interleaving of the actors' steps, each from fresh state, one
/// step at a time on the calling thread, and checks the outcome of each. A step no actor can take while some still
/// have steps left is a deadlock (or a lost wake-up: whoever should have woken the waiter never will). A failing
/// schedule is reported as the names of its steps in order, so it replays exactly.
/// </summary>
internal static class Interleavings
{
    public sealed record Result(long Schedules, string? Failure);

    public static Result Explore(Func<IExplored> create, long maxSchedules = 200_000)
    {
        long schedules = 0;
        string? failure = null;
        var choices = new List<int>();

        // Depth-first over choice sequences: each run replays the choices made so far and then takes the first
        // enabled actor at every later point; the next run advances the deepest choice that has an alternative.
        while (failure is null && schedules < maxSchedules)
        {
            var (taken, alternatives, trace, problem) = Run(create(), choices);
            schedules++;
            failure = problem is null ? null : $"{problem} after [{string.Join(", ", trace)}]";
            choices = taken;
            var next = Advance(choices, alternatives);
            if (next is null)
            {
                break;
            }

            choices = next;
        }

        return new Result(schedules, failure);
    }

    private static (List<int> Taken, List<int[]> Alternatives, List<string> Trace, string? Problem) Run(IExplored system, List<int> prefix)
    {
        var actors = system.Actors;
        var next = new int[actors.Count];
        var taken = new List<int>();
        var alternatives = new List<int[]>();
        var trace = new List<string>();
        var quiesced = 0;
        while (true)
        {
            var enabled = Enumerable.Range(0, actors.Count).Where(a => next[a] < actors[a].Count && actors[a][next[a]].Enabled()).ToArray();
            if (enabled.Length == 0 && system.Quiesce())
            {
                trace.Add("(quiesce)");
                if (++quiesced > 1000)
                {
                    return (taken, alternatives, trace, "a livelock: a loop keeps waking with nothing to change");
                }

                continue;
            }

            quiesced = 0;

            if (enabled.Length == 0)
            {
                var deadlocked = Enumerable.Range(0, actors.Count).Any(a => next[a] < actors[a].Count);
                string? problem;
                try
                {
                    problem = system.Check(deadlocked);
                }
                catch (Exception e)
                {
                    problem = $"the check threw {e.GetType().Name}: {e.Message}";
                }

                if (problem is null && deadlocked)
                {
                    problem = "no actor can go on: " + string.Join("; ", Enumerable.Range(0, actors.Count)
                        .Where(a => next[a] < actors[a].Count).Select(a => $"actor {a} waits at {actors[a][next[a]].Name}"));
                }

                return (taken, alternatives, trace, problem);
            }

            var depth = taken.Count;
            var choice = depth < prefix.Count ? prefix[depth] : enabled[0];
            if (Array.IndexOf(enabled, choice) < 0)
            {
                throw new InvalidOperationException("A replayed schedule took another path: the system under exploration is not deterministic.");
            }

            taken.Add(choice);
            alternatives.Add(enabled);
            var step = actors[choice][next[choice]++];
            trace.Add(step.Name);
            try
            {
                step.Run();
            }
            catch (Exception e)
            {
                return (taken, alternatives, trace, $"{step.Name} threw {e.GetType().Name}: {e.Message}");
            }
        }
    }

    /// <summary>The next choice sequence in depth-first order, or null when every schedule was run.</summary>
    private static List<int>? Advance(List<int> taken, List<int[]> alternatives)
    {
        for (var depth = taken.Count - 1; depth >= 0; depth--)
        {
            var options = alternatives[depth];
            var at = Array.IndexOf(options, taken[depth]);
            if (at + 1 < options.Length)
            {
                var next = taken.GetRange(0, depth);
                next.Add(options[at + 1]);
                return next;
            }
        }

        return null;
    }
}
