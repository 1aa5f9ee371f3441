using FlowOrleans.Transport.Security;

namespace FlowOrleans.Fuzz.Targets;

/// <summary>
/// Blessing patterns and names: the input (<see cref="FuzzText"/>) is a pattern, then after each newline a blessing
/// name to match. Invariants: <see cref="BlessingPattern.Parse"/> throws <see cref="FlowException"/> with
/// <see cref="FlowErrorCode.BadArg"/> exactly when the pattern is invalid and <see cref="BlessingPattern.TryParse"/>
/// agrees; a valid pattern survives print-parse; matching follows the documented rules (checked against a plain
/// restatement of them), <see cref="BlessingPattern.MatchesAny"/> agrees with <see cref="BlessingPattern.Matches"/>,
/// <see cref="BlessingPattern.MakeNonExtendable"/> is idempotent and matches a subset, and
/// <see cref="BlessingRoots.IsRecognized"/> of a root added with the pattern agrees with it.
/// </summary>
internal sealed class BlessingPatternTarget : FuzzTarget
{
    private static readonly PublicKey RootKey = FuzzIdentities.RootPublicKey;

    public override string Name => "blessing-pattern";

    public override int MaxLength => 512;

    public override void Run(ReadOnlySpan<byte> input)
    {
        string[] lines = FuzzText.Decode(input).Split('\n');
        string text = lines[0];
        string[] names = lines[1..];

        var pattern = new BlessingPattern(text);
        CheckParse(text, pattern);
        var roots = new BlessingRoots();
        if (pattern.IsValid)
        {
            var reparsed = BlessingPattern.Parse(pattern.ToString());
            Invariant.True(reparsed == pattern && reparsed.GetHashCode() == pattern.GetHashCode(), $"pattern \"{text}\" does not survive print-parse");
            var exact = pattern.MakeNonExtendable();
            Invariant.True(exact.IsValid && exact.MakeNonExtendable() == exact, $"MakeNonExtendable of \"{text}\" is not idempotent");
            roots.Add(RootKey, pattern);
        }

        foreach (string name in names)
        {
            bool matches = pattern.Matches(name);
            Invariant.True(matches == ExpectedMatch(pattern, name), $"\"{text}\" {(matches ? "matches" : "does not match")} \"{name}\"");
            Invariant.True(!matches || pattern.MatchesAny([name]), $"\"{text}\" matches \"{name}\" but not the list of it alone");
            Invariant.True(!pattern.MakeNonExtendable().Matches(name) || matches, $"MakeNonExtendable of \"{text}\" matches \"{name}\", which it does not");
            Invariant.True(roots.IsRecognized(RootKey, name) == matches, $"a root trusted for \"{text}\" is recognised for \"{name}\" against Matches");
        }

        bool any = pattern.MatchesAny(names);
        bool expectedAny = pattern.IsValid && (pattern.Value == "..." || names.Any(pattern.Matches));
        Invariant.True(any == expectedAny, $"MatchesAny of \"{text}\" is {any}");
    }

    private static void CheckParse(string text, BlessingPattern pattern)
    {
        Invariant.True(BlessingPattern.TryParse(text, out var tried) == pattern.IsValid && tried == pattern,
            $"TryParse disagrees with IsValid on \"{text}\"");
        try
        {
            var parsed = BlessingPattern.Parse(text);
            Invariant.True(pattern.IsValid && parsed == pattern, $"Parse accepts \"{text}\", which is invalid");
        }
        catch (FlowException e)
        {
            Invariant.RejectedWith(e, FlowErrorCode.BadArg, "BlessingPattern.Parse");
            Invariant.True(!pattern.IsValid, $"Parse refuses \"{text}\", which is valid");
        }
    }

    /// <summary>The documented rules: <c>...</c> matches all; <c>p:$</c> only <c>p</c>; <c>p</c> also <c>p:x</c> for non-empty x.</summary>
    private static bool ExpectedMatch(BlessingPattern pattern, string name)
    {
        if (!pattern.IsValid)
        {
            return false;
        }

        string value = pattern.Value;
        if (value == "...")
        {
            return true;
        }

        if (value.EndsWith(":$", StringComparison.Ordinal))
        {
            return name == value[..^2];
        }

        return name == value || (name.StartsWith(value + ":", StringComparison.Ordinal) && name.Length > value.Length + 1);
    }

    public override IEnumerable<KeyValuePair<string, byte[]>> Seeds()
    {
        string[] texts =
        [
            "...\nalice",
            "...",
            "root\nroot\nroot:alice\nrootx\nroot:\nroot:a:b",
            "root:$\nroot\nroot:alice",
            "root:alice:phone\nroot:alice\nroot:alice:phone:app",
            "a:...:b\na:x:b",
            "a::b\na::b",
            ":a\n:a",
            "a:\na:",
            "$\n$",
            "a:$:$\na:$",
            "dev.v.io:u:bob@x.com\ndev.v.io:u:bob@x.com:laptop",
            "a,b\na,b",
            "a(b)\na(b)",
            "é:ü\né:ü:x",
            "",
        ];
        for (int i = 0; i < texts.Length; i++)
        {
            yield return new($"text-{i:D2}", FuzzText.Utf8(texts[i]));
        }
    }
}
