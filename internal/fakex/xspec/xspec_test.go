package xspec

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func multipartBody(t *testing.T, fields map[string]string, file []byte, fileCT string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{`form-data; name="media"; filename="media"`}
		h["Content-Type"] = []string{fileCT}
		p, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		p.Write(file)
	}
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

func TestValidatorRequests(t *testing.T) {
	v := Shared(t)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	appendCT, appendBody := multipartBody(t, map[string]string{"segment_index": "0"}, []byte("chunk"), "application/octet-stream")
	appendVideoCT, appendVideoBody := multipartBody(t, map[string]string{"segment_index": "12"}, []byte("\x00\x00\x00\x18ftypisom"), "video/mp4")
	badSegCT, badSegBody := multipartBody(t, map[string]string{"segment_index": "1000"}, []byte("chunk"), "application/octet-stream")
	noSegCT, noSegBody := multipartBody(t, nil, []byte("chunk"), "application/octet-stream")
	oneShotCT, oneShotBody := multipartBody(t, map[string]string{"media_category": "tweet_image", "media_type": "image/png"}, png, "image/png")
	oneShotGIFCT, oneShotGIFBody := multipartBody(t, map[string]string{"media_category": "tweet_image"}, []byte("GIF89a"), "application/octet-stream")
	oneShotExtraCT, oneShotExtraBody := multipartBody(t, map[string]string{"media_category": "tweet_image", "colour": "blue"}, png, "image/png")
	oneShotVideoCT, oneShotVideoBody := multipartBody(t, map[string]string{"media_category": "tweet_video"}, png, "image/png")

	cases := []struct {
		name, method, target, ct, body string
		wantErr                        string // "" = conforming
	}{
		{"create text", "POST", "/2/tweets", "application/json", `{"text":"hello"}`, ""},
		{"create reply with media", "POST", "/2/tweets", "application/json",
			`{"text":"two","reply":{"in_reply_to_tweet_id":"1860000000000000001"},"media":{"media_ids":["1870000000000000001"]}}`, ""},
		{"create media without text", "POST", "/2/tweets", "application/json", `{"text":"","media":{"media_ids":["1870000000000000001"]}}`, ""},
		{"create extra field", "POST", "/2/tweets", "application/json", `{"text":"hello","in_reply_to_tweet_id":"1"}`, "in_reply_to_tweet_id"},
		{"create reply id pattern", "POST", "/2/tweets", "application/json", `{"text":"x","reply":{"in_reply_to_tweet_id":"abc"}}`, "in_reply_to_tweet_id"},
		{"create reply without id", "POST", "/2/tweets", "application/json", `{"text":"x","reply":{}}`, "in_reply_to_tweet_id"},
		{"create five media", "POST", "/2/tweets", "application/json", `{"text":"x","media":{"media_ids":["1","2","3","4","5"]}}`, "media_ids"},
		{"create wrong content type", "POST", "/2/tweets", "text/plain", `hello`, "Content-Type"},
		{"create undeclared query", "POST", "/2/tweets?debug=1", "application/json", `{"text":"x"}`, `"debug"`},
		{"delete", "DELETE", "/2/tweets/1860000000000000001", "", "", ""},
		{"delete bad id pattern", "DELETE", "/2/tweets/12ab", "", "", "id"},
		{"delete with body", "DELETE", "/2/tweets/1", "application/json", `{"x":1}`, "body"},
		{"me with fields", "GET", "/2/users/me?user.fields=most_recent_tweet_id,subscription_type", "", "", ""},
		{"me bad field", "GET", "/2/users/me?user.fields=favourite_colour", "", "", "user.fields"},
		{"me undeclared query", "GET", "/2/users/me?max_results=5", "", "", `"max_results"`},
		{"timeline", "GET", "/2/users/2244994945/tweets?since_id=1&max_results=5&tweet.fields=created_at,referenced_tweets,entities&start_time=2026-01-01T00:00:00Z", "", "", ""},
		{"timeline max_results low", "GET", "/2/users/2244994945/tweets?max_results=4", "", "", "max_results"},
		{"timeline bad since_id", "GET", "/2/users/2244994945/tweets?since_id=x", "", "", "since_id"},
		{"timeline undeclared", "GET", "/2/users/2244994945/tweets?count=5", "", "", `"count"`},
		{"unknown path", "GET", "/2/nothing", "", "", "no operation"},
		{"media status", "GET", "/2/media/upload?media_id=1870000000000000001&command=STATUS", "", "", ""},
		{"media status bad command", "GET", "/2/media/upload?media_id=1&command=INIT", "", "", "command"},
		{"media status no id", "GET", "/2/media/upload?command=STATUS", "", "", "media_id"},
		{"initialize", "POST", "/2/media/upload/initialize", "application/json", `{"media_type":"video/mp4","total_bytes":1000,"media_category":"tweet_video"}`, ""},
		{"initialize bad category", "POST", "/2/media/upload/initialize", "application/json", `{"media_type":"video/mp4","total_bytes":1000,"media_category":"tweet_movie"}`, "media_category"},
		{"initialize extra", "POST", "/2/media/upload/initialize", "application/json", `{"media_type":"video/mp4","total_bytes":1000,"command":"INIT"}`, "command"},
		{"append", "POST", "/2/media/upload/1870000000000000001/append", appendCT, string(appendBody), ""},
		{"append video part", "POST", "/2/media/upload/1870000000000000001/append", appendVideoCT, string(appendVideoBody), ""},
		{"append segment 1000", "POST", "/2/media/upload/1870000000000000001/append", badSegCT, string(badSegBody), "segment_index"},
		{"append no segment", "POST", "/2/media/upload/1870000000000000001/append", noSegCT, string(noSegBody), "segment_index"},
		{"finalize", "POST", "/2/media/upload/1870000000000000001/finalize", "", "", ""},
		{"finalize bad id", "POST", "/2/media/upload/abc/finalize", "", "", "id"},
		{"one-shot png", "POST", "/2/media/upload", oneShotCT, string(oneShotBody), ""},
		{"one-shot gif without media_type", "POST", "/2/media/upload", oneShotGIFCT, string(oneShotGIFBody), ""},
		{"one-shot extra field", "POST", "/2/media/upload", oneShotExtraCT, string(oneShotExtraBody), "colour"},
		{"one-shot video category", "POST", "/2/media/upload", oneShotVideoCT, string(oneShotVideoBody), "media_category"},
		{"metadata", "POST", "/2/media/metadata", "application/json", `{"id":"1870000000000000001","metadata":{"alt_text":{"text":"a cat"}}}`, ""},
		{"metadata alt too long", "POST", "/2/media/metadata", "application/json", `{"id":"1","metadata":{"alt_text":{"text":"` + strings.Repeat("a", 1001) + `"}}}`, "text"},
		{"metadata no id", "POST", "/2/media/metadata", "application/json", `{"metadata":{"alt_text":{"text":"a"}}}`, "id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://127.0.0.1:9"+tc.target, nil)
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			r.Header.Set("Authorization", "Bearer t")
			err := v.ValidateRequest(r, []byte(tc.body))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("conforming request flagged: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("non-conforming request passed")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q does not mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidatorResponses(t *testing.T) {
	v := Shared(t)
	r := httptest.NewRequest("POST", "/2/tweets", nil)
	h := http.Header{"Content-Type": {"application/json"}}
	if err := v.ValidateResponse(r, 201, h, []byte(`{"data":{"id":"1860000000000000001","text":"hi"}}`)); err != nil {
		t.Fatalf("good create answer flagged: %v", err)
	}
	if err := v.ValidateResponse(r, 201, h, []byte(`{"data":{"id":"not-an-id","text":"hi"}}`)); err == nil {
		t.Fatal("bad create answer passed")
	}
	ph := http.Header{"Content-Type": {"application/problem+json"}}
	if err := v.ValidateResponse(r, 403, ph, []byte(`{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}`)); err != nil {
		t.Fatalf("duplicate problem flagged: %v", err)
	}
}
