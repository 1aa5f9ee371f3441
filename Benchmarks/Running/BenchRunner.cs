using System.Globalization;
using FlowOrleans.Benchmarks.Reporting;
using FlowOrleans.Benchmarks.Scenarios;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Running;

/// <summary>
/// Runs each scenario for a warm-up round and then the measured rounds; within a round every system runs once, and
/// the order rotates from round to round so no system always runs first (or right after the same neighbour).
/// Every run is under a watchdog: a hang becomes a failed run with a clear message, never a stuck benchmark.
/// </summary>
internal sealed class BenchRunner(ScenarioSettings settings, int rounds, TextWriter progress)
{
    // How long a cancelled run may take to unwind (closing its sockets) before it is abandoned.
    private static readonly TimeSpan s_unwindGrace = TimeSpan.FromSeconds(5);

    public async Task<IReadOnlyList<RunOutcome>> RunAsync(IReadOnlyList<IScenario> scenarios, IReadOnlyList<IBenchSystem> systems)
    {
        var outcomes = new List<RunOutcome>();
        foreach (var scenario in scenarios)
        {
            var eligible = systems.Where(scenario.AppliesTo).ToList();
            for (var round = scenario.WarmsUp ? 0 : 1; round <= rounds; round++)
            {
                for (var i = 0; i < eligible.Count; i++)
                {
                    var system = eligible[(i + round) % eligible.Count];
                    var outcome = await RunOnceAsync(scenario, system, round);
                    progress.WriteLine(Describe(outcome));
                    outcomes.Add(outcome);
                }
            }
        }

        return outcomes;
    }

    private async Task<RunOutcome> RunOnceAsync(IScenario scenario, IBenchSystem system, int round)
    {
        // Start every run from a clean heap so one system's garbage is not collected on another's time.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        using var cancellation = new CancellationTokenSource();
        var watchdog = scenario.WatchdogTimeout(settings);
        var run = scenario.RunAsync(system, settings, cancellation.Token);
        try
        {
            var measurements = await run.WaitAsync(watchdog);
            return new RunOutcome(scenario.Name, system.Name, round, measurements, Failure: null);
        }
        catch (TimeoutException)
        {
            await cancellation.CancelAsync();
            var unwound = await Task.WhenAny(run, Task.Delay(s_unwindGrace)) == run;
            return Failed($"watchdog: no result within {watchdog.TotalSeconds:0} s"
                + (unwound ? " (cancelled)" : " (still running after cancellation; abandoned)"));
        }
#pragma warning disable CA1031 // Any exception from a system under test is a result to report, not a reason to stop the run.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Failed($"{e.GetType().Name}: {e.Message}");
        }

        RunOutcome Failed(string message) => new(scenario.Name, system.Name, round, [], message);
    }

    private string Describe(RunOutcome outcome)
    {
        var round = outcome.IsWarmUp ? "warm-up" : $"round {outcome.Round}/{rounds}";
        var result = outcome.Failure is { } failure
            ? "FAILED " + failure
            : string.Join(", ", outcome.Measurements.Select(m => $"{m.Metric} {Format.Number(m.Value)} {m.Unit}"));
        return string.Create(CultureInfo.InvariantCulture, $"[{outcome.Scenario}] {round,-11} {outcome.System,-14} {result}");
    }
}
