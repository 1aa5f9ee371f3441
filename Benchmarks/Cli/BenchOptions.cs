using System.Globalization;
using FlowOrleans.Benchmarks.Scenarios;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Cli;

/// <summary>The parsed command line. <see cref="Parse"/> reports every mistake as an <see cref="ArgumentException"/>.</summary>
internal sealed record BenchOptions(
    IReadOnlyList<IScenario> Scenarios,
    IReadOnlyList<BenchSystemInfo> Systems,
    int Rounds,
    bool Quick,
    string? JsonPath,
    string? MarkdownPath)
{
    public const int DefaultRounds = 5;
    public const int QuickRounds = 1;

    public const string Usage = """
        Usage: FlowOrleans.Benchmarks [options]
          --scenario a,b   scenarios or groups to run (default: all but the scale group; with --quick, all)
          --system x,y     systems to compare (default: all)
          --rounds N       measured rounds after one discarded warm-up round (default: 5; 1 with --quick)
          --quick          reduced sizes and rounds: the CI smoke run
          --json FILE      write results as a JSON array
          --markdown FILE  write the results table as Markdown
          --help           show this text
        """;

    public ScenarioSettings Settings => Quick ? ScenarioSettings.Quick : ScenarioSettings.Full;

    /// <summary>Returns null when help was asked for.</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args)
    {
        string? scenarioNames = null;
        IReadOnlyList<BenchSystemInfo> systems = BenchSystems.All;
        int? rounds = null;
        var quick = false;
        string? json = null;
        string? markdown = null;

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{arg} needs a value.");
            switch (arg)
            {
                case "--help" or "-h":
                    return null;
                case "--scenario":
                    scenarioNames = Value();
                    break;
                case "--system":
                    systems = Select(Value(), BenchSystems.All, s => s.Name, "system");
                    break;
                case "--rounds":
                    rounds = int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                        ? n
                        : throw new ArgumentException("--rounds needs a positive whole number.");
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--json":
                    json = Value();
                    break;
                case "--markdown":
                    markdown = Value();
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{arg}'.");
            }
        }

        var scenarios = scenarioNames is null
            ? BenchScenarios.Default(quick)
            : Select(scenarioNames, BenchScenarios.All, s => s.Name, "scenario", BenchScenarios.Groups);
        return new BenchOptions(scenarios, systems, rounds ?? (quick ? QuickRounds : DefaultRounds), quick, json, markdown);
    }

    private static T[] Select<T>(
        string list, IReadOnlyList<T> known, Func<T, string> name, string kind,
        IReadOnlyDictionary<string, IReadOnlyList<T>>? groups = null)
    {
        var selected = new List<T>();
        foreach (var wanted in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (groups is not null && groups.TryGetValue(wanted, out var members))
            {
                selected.AddRange(members.Where(m => !selected.Contains(m)));
                continue;
            }

            var match = known.FirstOrDefault(k => string.Equals(name(k), wanted, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                var names = known.Select(name).Concat(groups?.Keys.Select(g => g + " (group)") ?? []);
                throw new ArgumentException($"Unknown {kind} '{wanted}'. Known: {string.Join(", ", names)}.");
            }

            if (!selected.Contains(match))
            {
                selected.Add(match);
            }
        }

        // Keep the registry's order so reports line up whatever order the names were given in.
        return selected.Count > 0
            ? [.. known.Where(selected.Contains)]
            : throw new ArgumentException($"--{kind} needs at least one name.");
    }
}
