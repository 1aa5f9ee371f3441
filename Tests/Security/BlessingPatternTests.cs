using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Security;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class BlessingPatternTests
{
    public static TheoryData<string, string, bool> MatchTable => new()
    {
        { "...", "root", true },
        { "...", "root:alice:phone", true },
        { "root", "root", true },
        { "root", "root:alice", true },
        { "root", "root:alice:phone", true },
        { "root", "rootx", false },
        { "root", "roo", false },
        { "root", "root:", false },
        { "root", "other:root", false },
        { "root", "", false },
        { "root:$", "root", true },
        { "root:$", "root:alice", false },
        { "root:alice", "root", false },
        { "root:alice", "root:alice", true },
        { "root:alice", "root:alice:phone", true },
        { "root:alice", "root:alicex", false },
        { "root:alice", "root:bob", false },
        { "root:alice:$", "root:alice", true },
        { "root:alice:$", "root:alice:phone", false },
        { "dev.v.io:foo@bar.com", "dev.v.io:foo@bar.com:phone", true },
    };

    public static TheoryData<string> InvalidPatterns => new()
    {
        "",
        "$",
        ":$",
        "root:...",
        "...:root",
        "ro...ot",
        "root::alice",
        ":root",
        "root:",
        "root:$:$",
        "root:$:alice",
        "a,b",
        "a@@b",
        "a(b",
        "a)b",
        "a<b",
        "a>b",
        "a/b",
        "....",
    };

    [Theory]
    [MemberData(nameof(MatchTable))]
    public void MatchesFollowsTheRules(string pattern, string name, bool expected)
    {
        var parsed = BlessingPattern.Parse(pattern);

        Assert.True(parsed.IsValid);
        Assert.Equal(expected, parsed.Matches(name));
        Assert.Equal(expected, parsed.MatchesAny([name]));
        Assert.Equal(expected, parsed.MatchesAny(["unrelated", name]));
    }

    [Theory]
    [MemberData(nameof(InvalidPatterns))]
    public void InvalidPatternsMatchNothing(string pattern)
    {
        var p = new BlessingPattern(pattern);

        Assert.False(p.IsValid);
        Assert.False(BlessingPattern.TryParse(pattern, out _));
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => BlessingPattern.Parse(pattern)).Code);
        foreach (var name in new[] { "", "root", "root:alice", "a", "...", pattern })
        {
            Assert.False(p.Matches(name));
        }

        Assert.False(p.MatchesAny([]));
        Assert.False(p.MatchesAny(["root", pattern]));
    }

    [Fact]
    public void DefaultPatternIsInvalidAndMatchesNothing()
    {
        BlessingPattern pattern = default;

        Assert.False(pattern.IsValid);
        Assert.Equal("", pattern.Value);
        Assert.False(pattern.Matches("root"));
        Assert.False(pattern.MatchesAny([]));
    }

    [Fact]
    public void AllPrincipalsAlsoMatchesNoNameAtAll()
    {
        Assert.True(BlessingPattern.All.MatchesAny([]));
        Assert.False(BlessingPattern.Parse("root").MatchesAny([]));
        Assert.False(BlessingPattern.Parse("root:$").MatchesAny([]));
    }

    [Fact]
    public void MakeNonExtendableMatchesExactlyTheName()
    {
        var exact = BlessingPattern.Parse("root:alice").MakeNonExtendable();

        Assert.Equal("root:alice:$", exact.Value);
        Assert.True(exact.Matches("root:alice"));
        Assert.False(exact.Matches("root:alice:phone"));
        Assert.Equal(exact, exact.MakeNonExtendable());
        Assert.Equal(BlessingPattern.All, BlessingPattern.All.MakeNonExtendable());
    }

    [Fact]
    public void RootsRecognizeKeysOnlyForTheirPatterns()
    {
        using var root = Principal.CreateInMemory();
        using var other = Principal.CreateInMemory();
        var roots = new BlessingRoots();
        roots.Add(root.PublicKey, BlessingPattern.Parse("root:alice"));
        roots.Add(root.PublicKey, BlessingPattern.Parse("corp:$"));
        roots.Add(root.PublicKey, BlessingPattern.Parse("corp:$"));

        Assert.True(roots.IsRecognized(root.PublicKey, "root:alice"));
        Assert.True(roots.IsRecognized(root.PublicKey, "root:alice:phone"));
        Assert.True(roots.IsRecognized(root.PublicKey, "corp"));
        Assert.False(roots.IsRecognized(root.PublicKey, "corp:bob"));
        Assert.False(roots.IsRecognized(root.PublicKey, "root"));
        Assert.False(roots.IsRecognized(other.PublicKey, "root:alice"));
        Assert.Equal(2, roots.Dump().Count);
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => roots.Add(root.PublicKey, new BlessingPattern("root:..."))).Code);
    }
}
