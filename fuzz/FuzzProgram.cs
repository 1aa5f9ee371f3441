namespace FlowOrleans.Fuzz;

/// <summary>The command line of the fuzzing program.</summary>
internal static class FuzzProgram
{
    private const string Usage = """
        usage: FlowOrleans.Fuzz TARGET                 run TARGET under libFuzzer (started by fuzz/driver)
               FlowOrleans.Fuzz TARGET PATH...          replay files (or every file in folders) through TARGET
               FlowOrleans.Fuzz --seeds DIR             write every target's seed corpus to DIR/TARGET/
               FlowOrleans.Fuzz --self-test             run every seed; the valid handshakes must succeed
               FlowOrleans.Fuzz --list                  print the targets with their -max_len
        """;

    public static int Run(string[] args, FuzzTarget[] targets)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        switch (args[0])
        {
            case "--list":
                foreach (var target in targets)
                {
                    Console.WriteLine($"{target.Name} {target.MaxLength}");
                }

                return 0;
            case "--seeds" when args.Length == 2:
                WriteSeeds(targets, args[1]);
                return 0;
            case "--self-test":
                return SelfTest(targets);
        }

        var chosen = targets.FirstOrDefault(t => t.Name == args[0]);
        if (chosen is null)
        {
            Console.Error.WriteLine($"unknown target \"{args[0]}\"; targets: {string.Join(", ", targets.Select(t => t.Name))}");
            return 2;
        }

        if (args.Length > 1)
        {
            return Replay(chosen, args[1..]);
        }

        if (Environment.GetEnvironmentVariable("__LIBFUZZER_SHM_ID") is null)
        {
            Console.Error.WriteLine("Not started by the libFuzzer driver: give input files to replay, or see fuzz/README.md.");
            return 2;
        }

        SharpFuzz.Fuzzer.LibFuzzer.Run(chosen.Run);
        return 0;
    }

    private static void WriteSeeds(FuzzTarget[] targets, string directory)
    {
        foreach (var target in targets)
        {
            var folder = Path.Combine(directory, target.Name);
            Directory.CreateDirectory(folder);
            foreach (var (name, bytes) in target.Seeds())
            {
                File.WriteAllBytes(Path.Combine(folder, "seed-" + name), bytes);
            }
        }
    }

    private static int Replay(FuzzTarget target, string[] paths)
    {
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories) : [p]).Order(StringComparer.Ordinal);
        int count = 0;
        int failed = 0;
        foreach (var file in files)
        {
            count++;
            try
            {
                target.Run(File.ReadAllBytes(file));
            }
#pragma warning disable CA1031 // Replay reports every failing input, whatever it threw, and goes on.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failed++;
                Console.Error.WriteLine($"{file}: {e}");
            }
        }

        Console.WriteLine($"{target.Name}: {count} inputs replayed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    private static int SelfTest(FuzzTarget[] targets)
    {
        int failed = 0;
        foreach (var target in targets)
        {
            foreach (var (name, bytes) in target.Seeds())
            {
                try
                {
                    target.Run(bytes);
                    if (target is Targets.HandshakeTarget)
                    {
                        // Each handshake seed tests one path; the valid ones must complete, or the fuzzing peer no
                        // longer follows the protocol and the target only explores failures.
                        var failure = Targets.HandshakeTarget.RunHandshake(bytes);
                        Console.WriteLine($"handshake/{name}: {(failure is null ? "completed" : $"{failure.Code}: {failure.Message}")}");
                        if (name.StartsWith("valid-", StringComparison.Ordinal) && failure is not null)
                        {
                            throw new InvariantViolationException("a valid handshake seed did not complete", failure);
                        }
                    }
                }
#pragma warning disable CA1031 // The self-test reports every failing seed.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    failed++;
                    Console.Error.WriteLine($"{target.Name}/{name}: {e}");
                }
            }
        }

        Console.WriteLine(failed == 0 ? "self-test: every seed passed" : $"self-test: {failed} seeds failed");
        return failed == 0 ? 0 : 1;
    }
}
